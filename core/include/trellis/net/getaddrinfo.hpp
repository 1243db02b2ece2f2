// trellis::net::getaddrinfo / getnameinfo: name resolution as async calls
// (Trio's trio.socket.getaddrinfo / getnameinfo), and the hook to replace
// the resolver (set_custom_hostname_resolver).
//
//   auto entries = co_await net::getaddrinfo("example.com", "443", {.type = SOCK_STREAM});
//   for (auto& e : entries) use(e.address);
//
// Numeric hosts ("127.0.0.1", "::1") and ports resolve at once, on the
// calling thread. Other names go to the run's custom resolver if one is
// installed, else to the system's getaddrinfo(3) on a worker thread
// (to_thread::run_sync with abandon_on_cancel): a cancelled lookup returns
// at once and the thread finishes on its own, its result discarded.
// Host names with non-ASCII characters are IDNA-encoded first (each label
// in punycode with the "xn--" prefix, after lower-casing ASCII letters;
// no IDNA 2008 mapping or validation tables).
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "trellis/net/socket_address.hpp"
#include "trellis/task.hpp"

namespace trellis::net {

// The error category of getaddrinfo's EAI_* codes (message: gai_strerror).
const std::error_category& gai_category() noexcept;

// A failed name lookup. Derives from std::system_error, with code() in
// gai_category() (EAI_NONAME, EAI_AGAIN, ...; EAI_SYSTEM is reported as
// the errno in std::generic_category() instead); what() names the host.
class gaierror : public std::system_error {
public:
    gaierror(int eai_code, const std::string& what) : std::system_error(eai_code, gai_category(), what) {}
    using std::system_error::system_error;
};

// The hints of a lookup (the fields of struct addrinfo that matter).
struct addrinfo_hints {
    int family = AF_UNSPEC;
    int type = 0;
    int protocol = 0;
    int flags = 0;
};

// One result of a lookup.
struct addrinfo_entry {
    int family = AF_UNSPEC;
    int type = 0;
    int protocol = 0;
    std::string canonical_name;  // set only with AI_CANONNAME, on the first entry
    socket_address address;
};

// Resolves host and service (a port number or service name). An empty host
// means the local host (or the wildcard address with AI_PASSIVE). A
// checkpoint. Throws gaierror naming the host if the lookup fails, and
// cancelled (at once) if cancelled. Run's thread only.
task<std::vector<addrinfo_entry>> getaddrinfo(std::string host, std::string service, addrinfo_hints hints = {});

// The host and service names of an address (getnameinfo(3) flags such as
// NI_NUMERICHOST). A checkpoint; runs on a worker thread like getaddrinfo,
// or in the custom resolver. Throws gaierror naming the address.
task<std::pair<std::string, std::string>> getnameinfo(socket_address address, int flags = 0);

// Encodes a host name for DNS: ASCII names come back unchanged; labels with
// other characters (UTF-8) become "xn--" + punycode. Not a checkpoint.
// Throws std::invalid_argument on invalid UTF-8 or an over-long label.
std::string idna_encode(std::string_view host);

// Trio's custom hostname resolver hook: what getaddrinfo and getnameinfo
// call instead of the system resolver, for names that are not numeric.
// getaddrinfo receives the host already IDNA-encoded.
class hostname_resolver {
public:
    virtual ~hostname_resolver() = default;
    virtual task<std::vector<addrinfo_entry>> getaddrinfo(std::string host, std::string service,
                                                          addrinfo_hints hints) = 0;
    virtual task<std::pair<std::string, std::string>> getnameinfo(socket_address address, int flags) = 0;
};

// Installs `resolver` for the current run (null uninstalls) and returns the
// previous one. Not a checkpoint. Throws run_error outside a run.
std::shared_ptr<hostname_resolver> set_custom_hostname_resolver(std::shared_ptr<hostname_resolver> resolver);

}  // namespace trellis::net
