#include "trellis/net/getaddrinfo.hpp"

#include <cerrno>
#include <cstdint>
#include <memory>
#include <stdexcept>

#include "trellis/checkpoint.hpp"
#include "trellis/run_var.hpp"
#include "trellis/to_thread.hpp"

namespace trellis::net {

namespace {

class gai_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "getaddrinfo"; }
    std::string message(int code) const override { return ::gai_strerror(code); }
};

lowlevel::run_var<std::shared_ptr<hostname_resolver>> custom_resolver{nullptr};

[[noreturn]] void throw_gai(int code, int saved_errno, const std::string& what) {
    if (code == EAI_SYSTEM) throw std::system_error(saved_errno, std::generic_category(), what);
    throw gaierror(code, what);
}

// Calls getaddrinfo(3). Returns the EAI code (0 on success) and the entries.
struct lookup_result {
    int code = 0;
    int saved_errno = 0;
    std::vector<addrinfo_entry> entries;
};

lookup_result system_getaddrinfo(const std::string& host, const std::string& service, addrinfo_hints hints) {
    addrinfo want{};
    want.ai_family = hints.family;
    want.ai_socktype = hints.type;
    want.ai_protocol = hints.protocol;
    want.ai_flags = hints.flags;
    addrinfo* found = nullptr;
    lookup_result result;
    result.code = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.empty() ? nullptr : service.c_str(),
                                &want, &found);
    result.saved_errno = errno;
    if (result.code != 0) return result;
    for (addrinfo* p = found; p; p = p->ai_next) {
        addrinfo_entry e;
        e.family = p->ai_family;
        e.type = p->ai_socktype;
        e.protocol = p->ai_protocol;
        if (p->ai_canonname) e.canonical_name = p->ai_canonname;
        e.address = socket_address(p->ai_addr, p->ai_addrlen);
        result.entries.push_back(std::move(e));
    }
    ::freeaddrinfo(found);
    return result;
}

struct name_result {
    int code = 0;
    int saved_errno = 0;
    std::string host;
    std::string service;
};

name_result system_getnameinfo(const socket_address& address, int flags) {
    char host[NI_MAXHOST] = {};
    char service[NI_MAXSERV] = {};
    name_result r;
    r.code = ::getnameinfo(address.data(), address.size(), host, sizeof host, service, sizeof service, flags);
    r.saved_errno = errno;
    r.host = host;
    r.service = service;
    return r;
}

std::string describe(const std::string& host, const std::string& service) {
    return "getaddrinfo: cannot resolve \"" + host + "\"" + (service.empty() ? "" : " (service \"" + service + "\")");
}

// ---- punycode (RFC 3492) ----

std::u32string decode_utf8(std::string_view s) {
    std::u32string out;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        if (len == 0 || i + static_cast<std::size_t>(len) > s.size())
            throw std::invalid_argument("idna_encode: invalid UTF-8 in host name");
        char32_t cp = len == 1 ? c : (c & (0x7f >> len));
        for (int k = 1; k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            if ((cc >> 6) != 0x2) throw std::invalid_argument("idna_encode: invalid UTF-8 in host name");
            cp = (cp << 6) | (cc & 0x3f);
        }
        out.push_back(cp);
        i += static_cast<std::size_t>(len);
    }
    return out;
}

char punycode_digit(std::uint32_t d) { return static_cast<char>(d < 26 ? 'a' + d : '0' + (d - 26)); }

std::uint32_t punycode_adapt(std::uint32_t delta, std::uint32_t points, bool first) {
    constexpr std::uint32_t base = 36, tmin = 1, tmax = 26, skew = 38, damp = 700;
    delta = first ? delta / damp : delta / 2;
    delta += delta / points;
    std::uint32_t k = 0;
    while (delta > ((base - tmin) * tmax) / 2) {
        delta /= base - tmin;
        k += base;
    }
    return k + (base - tmin + 1) * delta / (delta + skew);
}

std::string punycode_label(const std::u32string& label) {
    constexpr std::uint32_t base = 36, tmin = 1, tmax = 26;
    std::string out;
    for (char32_t c : label)
        if (c < 0x80) out.push_back(static_cast<char>(c));
    const std::uint32_t basic = static_cast<std::uint32_t>(out.size());
    std::uint32_t handled = basic;
    if (basic > 0) out.push_back('-');
    std::uint32_t n = 0x80, delta = 0, bias = 72;
    const auto total = static_cast<std::uint32_t>(label.size());
    while (handled < total) {
        std::uint32_t m = UINT32_MAX;
        for (char32_t c : label)
            if (c >= n && c < m) m = c;
        delta += (m - n) * (handled + 1);
        n = m;
        for (char32_t c : label) {
            if (c < n) ++delta;
            if (c == n) {
                std::uint32_t q = delta;
                for (std::uint32_t k = base;; k += base) {
                    const std::uint32_t t = k <= bias ? tmin : k >= bias + tmax ? tmax : k - bias;
                    if (q < t) break;
                    out.push_back(punycode_digit(t + (q - t) % (base - t)));
                    q = (q - t) / (base - t);
                }
                out.push_back(punycode_digit(q));
                bias = punycode_adapt(delta, handled + 1, handled == basic);
                delta = 0;
                ++handled;
            }
        }
        ++delta;
        ++n;
    }
    return out;
}

}  // namespace

const std::error_category& gai_category() noexcept {
    static const gai_category_impl category;
    return category;
}

std::string idna_encode(std::string_view host) {
    bool ascii = true;
    for (char c : host)
        if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
    if (ascii) return std::string(host);
    std::string out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t dot = host.find('.', start);
        const std::string_view part = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
        std::u32string label = decode_utf8(part);
        bool label_ascii = true;
        for (auto& c : label) {
            if (c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
            if (c >= 0x80) label_ascii = false;
        }
        std::string encoded;
        if (label_ascii) {
            for (char32_t c : label) encoded.push_back(static_cast<char>(c));
        } else {
            encoded = "xn--" + punycode_label(label);
        }
        if (encoded.size() > 63)
            throw std::invalid_argument("idna_encode: the label \"" + std::string(part) + "\" is too long once encoded");
        out += encoded;
        if (dot == std::string_view::npos) break;
        out.push_back('.');
        start = dot + 1;
    }
    return out;
}

task<std::vector<addrinfo_entry>> getaddrinfo(std::string host, std::string service, addrinfo_hints hints) {
    co_await checkpoint_if_cancelled();
    // Numeric hosts need neither a thread nor the custom resolver.
    addrinfo_hints numeric = hints;
    numeric.flags |= AI_NUMERICHOST | AI_NUMERICSERV;
    if (auto quick = system_getaddrinfo(host, service, numeric); quick.code == 0) {
        co_await lowlevel::cancel_shielded_checkpoint();
        co_return std::move(quick.entries);
    }
    host = idna_encode(host);
    if (auto resolver = custom_resolver.get()) co_return co_await resolver->getaddrinfo(host, service, hints);
    auto result = co_await to_thread::run_sync({.abandon_on_cancel = true}, system_getaddrinfo, host, service, hints);
    if (result.code != 0) throw_gai(result.code, result.saved_errno, describe(host, service));
    co_return std::move(result.entries);
}

task<std::pair<std::string, std::string>> getnameinfo(socket_address address, int flags) {
    co_await checkpoint_if_cancelled();
    if (auto resolver = custom_resolver.get()) co_return co_await resolver->getnameinfo(address, flags);
    auto result = co_await to_thread::run_sync({.abandon_on_cancel = true}, system_getnameinfo, address, flags);
    if (result.code != 0)
        throw_gai(result.code, result.saved_errno, "getnameinfo: cannot look up " + address.to_string());
    co_return std::pair<std::string, std::string>{std::move(result.host), std::move(result.service)};
}

std::shared_ptr<hostname_resolver> set_custom_hostname_resolver(std::shared_ptr<hostname_resolver> resolver) {
    auto previous = custom_resolver.get();
    custom_resolver.set(std::move(resolver));
    return previous;
}

}  // namespace trellis::net
