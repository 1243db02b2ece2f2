// trellis::net::socket_address: an IPv4, IPv6 or UNIX socket address, as a
// value (a sockaddr_storage and its length).
//
//   auto a = net::socket_address::parse("127.0.0.1:8080");
//   auto b = net::socket_address::parse("[fe80::1%2]:443");
//   auto c = net::socket_address::unix_path("/run/app.sock");
//   auto d = net::socket_address::unix_path(std::string("\0name", 5));  // abstract
//   a.to_string();  // "127.0.0.1:8080"
//
// A plain value: copyable, no resources, any thread.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace trellis::net {

class socket_address {
public:
    // An empty address (family AF_UNSPEC, size 0).
    socket_address() noexcept;
    // Copies `size` bytes of `addr`. Throws std::invalid_argument if size is
    // larger than a sockaddr_storage.
    socket_address(const sockaddr* addr, socklen_t size);

    // An IPv4 address from dotted text ("127.0.0.1") and a port. Throws
    // std::invalid_argument if the text is not an IPv4 address.
    static socket_address ipv4(std::string_view host, std::uint16_t port);
    // An IPv6 address from text ("::1", "fe80::1%2" or "fe80::1%eth0": the
    // part after % is the scope, a number or an interface name) and a port.
    static socket_address ipv6(std::string_view host, std::uint16_t port, std::uint32_t scope_id = 0);
    // A numeric IPv4 or IPv6 host (no brackets) and a port.
    static socket_address ip(std::string_view host, std::uint16_t port);
    // A UNIX socket path. A path starting with a NUL byte names an abstract
    // socket (Linux). Throws std::invalid_argument if it is empty or too long.
    static socket_address unix_path(std::string_view path);
    // Parses "1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:80", or a UNIX path
    // (anything that starts with '/' or '@'; '@' names an abstract socket).
    // Throws std::invalid_argument naming the text if it is none of these.
    static socket_address parse(std::string_view text);

    int family() const noexcept { return storage_.ss_family; }
    const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
    sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
    socklen_t size() const noexcept { return size_; }
    // For filling by the kernel (accept, recvfrom): the capacity, then
    // set_size with what the kernel wrote.
    static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }
    void set_size(socklen_t size);

    // The host part as text: "1.2.3.4", "::1", "fe80::1%2", or the UNIX path
    // (an abstract name with a leading '@'). Empty for AF_UNSPEC.
    std::string host() const;
    // The port (IPv4/IPv6), else 0.
    std::uint16_t port() const noexcept;
    // IPv6 scope id, else 0.
    std::uint32_t scope_id() const noexcept;
    // "1.2.3.4:80", "[::1]:80", the UNIX path, or "(unspecified)".
    std::string to_string() const;

    friend bool operator==(const socket_address& a, const socket_address& b) noexcept;

private:
    sockaddr_storage storage_;
    socklen_t size_;
};

}  // namespace trellis::net
