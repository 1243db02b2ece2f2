#include "trellis/net/socket_address.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstddef>
#include <cstring>
#include <stdexcept>

namespace trellis::net {

socket_address::socket_address() noexcept : storage_{}, size_(0) { storage_.ss_family = AF_UNSPEC; }

socket_address::socket_address(const sockaddr* addr, socklen_t size) : storage_{}, size_(size) {
    if (size > sizeof storage_) throw std::invalid_argument("socket_address: the address is larger than sockaddr_storage");
    std::memcpy(&storage_, addr, size);
}

void socket_address::set_size(socklen_t size) {
    if (size > sizeof storage_) throw std::invalid_argument("socket_address::set_size: larger than sockaddr_storage");
    size_ = size;
}

socket_address socket_address::ipv4(std::string_view host, std::uint16_t port) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    const std::string text(host);
    if (::inet_pton(AF_INET, text.c_str(), &sin.sin_addr) != 1)
        throw std::invalid_argument("socket_address: \"" + text + "\" is not an IPv4 address");
    return socket_address(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

socket_address socket_address::ipv6(std::string_view host, std::uint16_t port, std::uint32_t scope_id) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sin6.sin6_scope_id = scope_id;
    std::string text(host);
    if (const auto pct = text.find('%'); pct != std::string::npos) {
        const std::string scope = text.substr(pct + 1);
        text.resize(pct);
        std::uint32_t id = 0;
        const auto [end, ec] = std::from_chars(scope.data(), scope.data() + scope.size(), id);
        if (ec == std::errc() && end == scope.data() + scope.size())
            sin6.sin6_scope_id = id;
        else if (const unsigned index = ::if_nametoindex(scope.c_str()); index != 0)
            sin6.sin6_scope_id = index;
        else
            throw std::invalid_argument("socket_address: unknown IPv6 scope \"" + scope + "\"");
    }
    if (::inet_pton(AF_INET6, text.c_str(), &sin6.sin6_addr) != 1)
        throw std::invalid_argument("socket_address: \"" + std::string(host) + "\" is not an IPv6 address");
    return socket_address(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6);
}

socket_address socket_address::ip(std::string_view host, std::uint16_t port) {
    if (host.find(':') != std::string_view::npos) return ipv6(host, port);
    return ipv4(host, port);
}

socket_address socket_address::unix_path(std::string_view path) {
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (path.empty()) throw std::invalid_argument("socket_address: a UNIX socket path may not be empty");
    // A filesystem path needs room for its terminating NUL; an abstract
    // name does not (its length is carried by the address size).
    const bool abstract = path[0] == '\0';
    if (path.size() + (abstract ? 0 : 1) > sizeof sun.sun_path)
        throw std::invalid_argument("socket_address: the UNIX socket path \"" + std::string(path) +
                                    "\" is longer than the " + std::to_string(sizeof sun.sun_path - 1) +
                                    " bytes a sockaddr_un holds");
    std::memcpy(sun.sun_path, path.data(), path.size());
    const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    return socket_address(reinterpret_cast<const sockaddr*>(&sun), size);
}

socket_address socket_address::parse(std::string_view text) {
    auto bad = [&]() {
        return std::invalid_argument("socket_address::parse: \"" + std::string(text) +
                                     "\" is not HOST:PORT, [HOST]:PORT or a UNIX path");
    };
    if (text.empty()) throw bad();
    if (text[0] == '/') return unix_path(text);
    if (text[0] == '@') {
        std::string name(text);
        name[0] = '\0';
        return unix_path(name);
    }
    std::string_view host;
    std::string_view port_text;
    if (text[0] == '[') {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') throw bad();
        host = text.substr(1, close - 1);
        port_text = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos || text.find(':') != colon) throw bad();
        host = text.substr(0, colon);
        port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
        throw bad();
    try {
        if (text[0] == '[') return ipv6(host, static_cast<std::uint16_t>(port));
        return ipv4(host, static_cast<std::uint16_t>(port));
    } catch (const std::invalid_argument&) {
        throw bad();
    }
}

std::string socket_address::host() const {
    char buf[INET6_ADDRSTRLEN] = {};
    switch (family()) {
    case AF_INET:
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof buf);
        return buf;
    case AF_INET6: {
        const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
        ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
        std::string out = buf;
        if (sin6->sin6_scope_id != 0) out += "%" + std::to_string(sin6->sin6_scope_id);
        return out;
    }
    case AF_UNIX: {
        const auto* sun = reinterpret_cast<const sockaddr_un*>(&storage_);
        const std::size_t offset = offsetof(sockaddr_un, sun_path);
        if (size_ <= offset) return {};  // unnamed
        std::string path(sun->sun_path, size_ - offset);
        if (path[0] == '\0') {
            path[0] = '@';
            return path;
        }
        return path.substr(0, path.find('\0'));
    }
    default:
        return {};
    }
}

std::uint16_t socket_address::port() const noexcept {
    if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    return 0;
}

std::uint32_t socket_address::scope_id() const noexcept {
    if (family() == AF_INET6) return reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_scope_id;
    return 0;
}

std::string socket_address::to_string() const {
    switch (family()) {
    case AF_INET:
        return host() + ":" + std::to_string(port());
    case AF_INET6:
        return "[" + host() + "]:" + std::to_string(port());
    case AF_UNIX: {
        std::string h = host();
        return h.empty() ? "(unnamed UNIX socket)" : h;
    }
    default:
        return "(unspecified)";
    }
}

bool operator==(const socket_address& a, const socket_address& b) noexcept {
    return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
}

}  // namespace trellis::net
