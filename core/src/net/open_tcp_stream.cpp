#include "trellis/net/open_tcp_stream.hpp"

#include <memory>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "trellis/cancel_scope.hpp"
#include "trellis/event.hpp"
#include "trellis/net/getaddrinfo.hpp"
#include "trellis/net/socket.hpp"
#include "trellis/nursery.hpp"

namespace trellis {

namespace {

// Alternates address families, keeping each family's order and starting
// with the family of the first entry (RFC 8305 section 4).
std::vector<net::addrinfo_entry> interleave(std::vector<net::addrinfo_entry> entries) {
    if (entries.empty()) return entries;
    const int first_family = entries.front().family;
    std::vector<net::addrinfo_entry> first, other, out;
    for (auto& e : entries) (e.family == first_family ? first : other).push_back(std::move(e));
    for (std::size_t i = 0; i < first.size() || i < other.size(); ++i) {
        if (i < first.size()) out.push_back(std::move(first[i]));
        if (i < other.size()) out.push_back(std::move(other[i]));
    }
    return out;
}

// The shared state of one open_tcp_stream call.
struct race {
    std::vector<net::addrinfo_entry> targets;
    // failed[i] is set once attempt i has failed.
    std::vector<std::unique_ptr<event>> failed;
    std::optional<net::socket> winner;
    std::vector<std::string> failures;
    std::error_code first_error;
    const open_tcp_stream_options* options = nullptr;
};

task<> attempt(race& r, std::size_t i, nursery& n) {
    const auto& target = r.targets[i];
    try {
        net::socket s = net::make_socket(target.family, target.type, target.protocol);
        if (r.options->local_address) s.bind(*r.options->local_address);
        co_await s.connect(target.address);
        if (!r.winner) {
            r.winner.emplace(std::move(s));
            n.cancel_scope().cancel();
        }
        // A later success loses: its socket closes here.
    } catch (const std::system_error& e) {
        if (!r.first_error) r.first_error = e.code();
        r.failures.push_back(e.what());
        r.failed[i]->set();
    }
}

}  // namespace

task<socket_stream> open_tcp_stream(std::string host, std::uint16_t port, open_tcp_stream_options options) {
    if (host.empty()) throw std::invalid_argument("open_tcp_stream: the host is empty");
    race r;
    r.options = &options;
    // Arguments named first: g++ 12 can destroy a non-trivial temporary
    // written inside a co_await expression twice.
    const std::string service = std::to_string(port);
    const net::addrinfo_hints hints{.family = AF_UNSPEC, .type = SOCK_STREAM};
    auto entries = co_await net::getaddrinfo(host, service, hints);
    if (options.local_address) {
        std::erase_if(entries, [&](const net::addrinfo_entry& e) { return e.family != options.local_address->family(); });
    }
    if (entries.empty())
        throw std::system_error(std::make_error_code(std::errc::address_not_available),
                                "open_tcp_stream: no usable address for " + host);
    r.targets = interleave(std::move(entries));
    for (std::size_t i = 0; i < r.targets.size(); ++i) r.failed.push_back(std::make_unique<event>());

    co_await open_nursery([&](nursery& n) -> task<> {
        for (std::size_t i = 0; i < r.targets.size(); ++i) {
            n.start_soon(attempt, std::ref(r), i, std::ref(n));
            if (i + 1 < r.targets.size()) {
                auto wait_failed = [&r, i]() { return r.failed[i]->wait(); };
                co_await move_on_after(options.happy_eyeballs_delay, wait_failed);
            }
        }
    });
    if (!r.winner) {
        std::string message = "open_tcp_stream: all connection attempts to " + host + ":" + std::to_string(port) + " failed";
        for (const auto& f : r.failures) message += "; " + f;
        throw std::system_error(r.first_error, message);
    }
    co_return socket_stream(std::move(*r.winner));
}

}  // namespace trellis
