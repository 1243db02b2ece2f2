// A small static-file HTTP/1.1 server: every connection is a task of
// trellis::serve_tcp, and real clients (curl, browsers) talk to it.
//
//   trellis_http_server --root ./public --host 127.0.0.1 --port 0 [--idle-timeout 10]
//   listening on 127.0.0.1:40123
//
// Port 0 picks a free port; the first line on stdout says which. Runs until
// killed.
//
// What it does:
//  * GET and HEAD of regular files under --root; a directory serves its
//    index.html. Other methods: 501 Not Implemented (the server implements
//    no other method for any resource, which is what 501 means; 405 would
//    say the method exists for other resources).
//  * Keep-alive: HTTP/1.1 connections stay open unless the client sends
//    "Connection: close"; HTTP/1.0 ones close unless it asks for
//    "Connection: keep-alive". Pipelined requests are answered in order.
//  * Content-Length always, a Content-Type from the file's extension.
//  * 400 for a malformed request line, header or percent-escape (and for an
//    HTTP/1.1 request without Host), 431 for a request head over 16 KiB,
//    505 for an HTTP version other than 1.0 and 1.1, 404 for a missing file.
//  * Paths are percent-decoded, then checked: a ".." segment (written
//    plainly or as %2e%2e) is refused with 403 before the file system is
//    asked, and so is a file whose real path (symlinks resolved) lies
//    outside the root: symlinks are followed only while they stay inside.
//  * An idle timeout per connection: the whole request head (and any body
//    it announces, which is discarded) must arrive within --idle-timeout
//    seconds of the previous response; each chunk of a response must be
//    taken by the client within the same time. A silent or slow client is
//    disconnected, never holds a connection forever.
//  * A client that disconnects mid-response only ends its own connection:
//    each connection's errors are caught and logged to stderr.
#include <trellis/net.hpp>
#include <trellis/trellis.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono_literals;

// The largest request head (request line and headers) the server accepts.
constexpr std::size_t max_head_bytes = 16 * 1024;
// The largest request body it reads (and throws away) to keep a connection.
constexpr std::size_t max_discarded_body = 1024 * 1024;
// How much of a file is read and sent at a time.
constexpr std::size_t file_chunk_bytes = 64 * 1024;

struct server_config {
    std::string root;  // the real path (no symlinks, no trailing slash)
    trellis::duration idle_timeout = std::chrono::seconds(10);
};

// ---- Parsing the request head (no I/O). ----

struct header {
    std::string name;  // as sent; compare with iequals
    std::string value;  // without surrounding spaces and tabs
};

struct request {
    std::string method;
    std::string target;  // the request-target, still percent-encoded
    int minor_version = 1;  // HTTP/1.<minor_version>
    std::vector<header> headers;
};

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// RFC 9110's tchar: the characters of a method or a header name.
bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_token(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The value of the first header called `name`, if any.
const std::string* find_header(const request& req, std::string_view name) {
    for (const auto& h : req.headers)
        if (iequals(h.name, name)) return &h.value;
    return nullptr;
}

// Whether a comma-separated header value (like Connection's) lists `token`.
bool lists_token(std::string_view value, std::string_view token) {
    while (!value.empty()) {
        const auto comma = value.find(',');
        if (iequals(trim(value.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    return false;
}

// Parses "METHOD SP target SP HTTP/1.x". Returns 0 or the status to answer.
int parse_request_line(std::string_view line, request& out) {
    const auto sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return 400;
    const auto sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return 400;
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    if (!is_token(method) || target.empty()) return 400;
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return 400;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !std::isdigit(static_cast<unsigned char>(version[5])) ||
        version[6] != '.' || !std::isdigit(static_cast<unsigned char>(version[7])))
        return 400;
    if (version[5] != '1') return 505;
    out.method = method;
    out.target = target;
    out.minor_version = std::min(version[7] - '0', 1);  // HTTP/1.2 and up are answered as 1.1
    return 0;
}

// Parses one "name: value" line. Returns 0 or the status to answer.
int parse_header_line(std::string_view line, request& out) {
    const auto colon = line.find(':');
    // No space may come between the name and the colon, and a line may not
    // start with whitespace (obsolete line folding).
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return 400;
    const std::string_view value = trim(line.substr(colon + 1));
    for (char c : value)
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return 400;
    out.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
    return 0;
}

// Parses a whole head, up to its blank line (lines end in CRLF; a bare LF
// is accepted too). Returns 0 or the status to answer.
int parse_request_head(std::string_view head, request& out) {
    // Empty lines before the request line are ignored (RFC 9112 2.2).
    while (!head.empty() && (head.front() == '\r' || head.front() == '\n')) head.remove_prefix(1);
    bool first = true;
    while (!head.empty()) {
        const auto eol = head.find('\n');
        std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) break;  // the blank line that ends the head
        const int status = first ? parse_request_line(line, out) : parse_header_line(line, out);
        if (status != 0) return status;
        first = false;
    }
    if (first) return 400;
    if (out.minor_version >= 1 && !find_header(out, "Host")) return 400;
    return 0;
}

// Whether the connection stays open after answering `req`.
bool wants_keep_alive(const request& req) {
    const std::string* connection = find_header(req, "Connection");
    if (connection && lists_token(*connection, "close")) return false;
    if (req.minor_version == 0) return connection && lists_token(*connection, "keep-alive");
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes %XX escapes. Empty optional for a broken escape or a decoded NUL.
std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        const int hi = hex_value(s[i + 1]);
        const int lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// ---- Mapping a request path to a file. ----

struct file_lookup {
    int status = 200;  // 200, 400, 403 or 404
    std::string path;  // the file to serve when status is 200
};

// The request path's segments, percent-decoded; 400 for a broken escape or
// a target not starting with '/', 403 for a ".." segment.
file_lookup decoded_relative_path(std::string_view target) {
    target = target.substr(0, target.find_first_of("?#"));
    if (target.empty() || target.front() != '/') return {400, {}};
    const std::optional<std::string> decoded = percent_decode(target);
    if (!decoded) return {400, {}};
    std::string relative;
    std::string_view rest = *decoded;
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
        if (segment.empty() || segment == ".") continue;
        if (segment == "..") return {403, {}};
        relative += '/';
        relative += segment;
    }
    return {200, relative};
}

// Finds the file for `target` under the root. The checks are blocking
// system calls (realpath, stat), like the file reads below.
file_lookup find_file(const server_config& config, std::string_view target) {
    file_lookup found = decoded_relative_path(target);
    if (found.status != 200) return found;
    std::string candidate = config.root + found.path;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) candidate += "/index.html";
    char* real = ::realpath(candidate.c_str(), nullptr);
    if (!real) return {404, {}};
    std::string resolved = real;
    std::free(real);
    // Symlinks may point anywhere; only files whose real path is inside the
    // root are served.
    if (resolved.compare(0, config.root.size() + 1, config.root + "/") != 0) return {403, {}};
    if (::stat(resolved.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {404, {}};
    return {200, resolved};
}

std::string_view content_type_for(std::string_view path) {
    static constexpr std::pair<std::string_view, std::string_view> types[] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".txt", "text/plain; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".json", "application/json"},
        {".xml", "application/xml"}, {".svg", "image/svg+xml"},
        {".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"},
        {".gif", "image/gif"}, {".ico", "image/x-icon"}, {".webp", "image/webp"},
        {".pdf", "application/pdf"}, {".wasm", "application/wasm"},
    };
    const auto slash = path.rfind('/');
    const auto dot = path.rfind('.');
    if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
        const std::string_view ext = path.substr(dot);
        for (const auto& [known, type] : types)
            if (iequals(ext, known)) return type;
    }
    return "application/octet-stream";
}

// ---- Writing responses. ----

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 408: return "Request Timeout";
        case 413: return "Content Too Large";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

std::string http_date() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return text;
}

std::string response_head(int status, std::string_view content_type, std::size_t content_length, bool keep_alive) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) + "\r\n";
    head += "Server: trellis-http-example\r\n";
    head += "Date: " + http_date() + "\r\n";
    head += "Content-Type: " + std::string(content_type) + "\r\n";
    head += "Content-Length: " + std::to_string(content_length) + "\r\n";
    if (status == 501) head += "Allow: GET, HEAD\r\n";
    head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    return head;
}

// Sends `data`, giving up on the connection (returns false) if the client
// does not take it within the idle timeout.
trellis::task<bool> send_or_time_out(trellis::socket_stream& conn, std::string_view data, trellis::duration timeout) {
    auto send = [&conn, data]() { return conn.send_all(data); };
    co_return co_await trellis::move_on_after(timeout, send);
}

// A short text page for an error status. Returns whether the client took it.
trellis::task<bool> send_error(trellis::socket_stream& conn, int status, bool head_only, bool keep_alive,
                               trellis::duration timeout) {
    const std::string body = std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n";
    std::string out = response_head(status, "text/plain; charset=utf-8", body.size(), keep_alive);
    if (!head_only) out += body;
    co_return co_await send_or_time_out(conn, out, timeout);
}

// Closes an fd when it goes out of scope.
struct fd_closer {
    int fd;
    ~fd_closer() { ::close(fd); }
};

// Sends the file at `path`. The reads are plain blocking read(2) calls, on
// purpose: regular files are not pollable (epoll rejects them), reads of a
// local file take microseconds, and a chunk is bounded (64 KiB), so the
// other connections wait at most that long. Handing every chunk to
// to_thread::run_sync would cost a thread hop per chunk for no gain here; a
// server of slow or network file systems should do it (with a
// capacity_limiter for the disk). Returns whether the connection can stay
// open (false if the client stopped taking data or the file changed size).
trellis::task<bool> send_file(trellis::socket_stream& conn, const std::string& path, bool head_only, bool keep_alive,
                              trellis::duration timeout) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) co_return co_await send_error(conn, 404, head_only, keep_alive, timeout);
    const fd_closer closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        (void)co_await send_error(conn, 500, head_only, false, timeout);
        co_return false;
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (!co_await send_or_time_out(conn, response_head(200, content_type_for(path), size, keep_alive), timeout))
        co_return false;
    if (head_only) co_return keep_alive;
    std::string chunk(file_chunk_bytes, '\0');
    for (std::size_t sent = 0; sent < size;) {
        const ssize_t n = ::read(fd, chunk.data(), std::min(chunk.size(), size - sent));
        if (n < 0 && errno == EINTR) continue;
        // The file shrank (or failed): the promised Content-Length cannot be
        // kept, so the connection must end.
        if (n <= 0) throw std::runtime_error("file " + path + " changed while being sent");
        if (!co_await send_or_time_out(conn, std::string_view(chunk).substr(0, static_cast<std::size_t>(n)), timeout))
            co_return false;
        sent += static_cast<std::size_t>(n);
    }
    co_return keep_alive;
}

// ---- Reading requests. ----

// Bytes received on a connection but not yet used. A pipelined request's
// bytes stay here for the next round.
class request_reader {
public:
    explicit request_reader(trellis::socket_stream& conn) : conn_(conn) {}

    bool empty() const noexcept { return buffer_.empty(); }

    // Receives more bytes; returns false at end of file.
    trellis::task<bool> fill() {
        std::byte chunk[4096];
        const std::size_t n = co_await conn_.receive_some(chunk);
        buffer_.append(reinterpret_cast<const char*>(chunk), n);
        co_return n > 0;
    }

    // Where the head ends (just after its first blank line), if it is in.
    // Lines end in CRLF or, tolerated, a bare LF.
    std::optional<std::size_t> head_end() const {
        for (auto lf = buffer_.find('\n'); lf != std::string::npos; lf = buffer_.find('\n', lf + 1)) {
            if (lf + 1 < buffer_.size() && buffer_[lf + 1] == '\n') return lf + 2;
            if (lf + 2 < buffer_.size() && buffer_[lf + 1] == '\r' && buffer_[lf + 2] == '\n') return lf + 3;
        }
        return std::nullopt;
    }

    std::size_t size() const noexcept { return buffer_.size(); }
    std::string take(std::size_t n) {
        std::string out = buffer_.substr(0, n);
        buffer_.erase(0, n);
        return out;
    }

private:
    trellis::socket_stream& conn_;
    std::string buffer_;
};

// What reading one request gave.
struct read_result {
    enum kind { complete, closed, truncated, too_large, bad_body } what = closed;
    request req;
    int status = 0;  // for complete: 0, or the status a parse error calls for
};

// Reads and discards a request body of `length` bytes.
trellis::task<bool> discard_body(request_reader& reader, std::size_t length) {
    bool open = true;
    while (open && reader.size() < length) open = co_await reader.fill();
    if (open) (void)reader.take(length);
    co_return open;
}

// The length of the body `req` announces: 0 without one, or an error
// status (400 for a bad Content-Length, 413 for one too large to discard,
// 501 for a chunked body, which this server does not support).
struct body_length {
    int status = 0;
    std::size_t length = 0;
};
body_length announced_body(const request& req) {
    if (find_header(req, "Transfer-Encoding")) return {501, 0};
    const std::string* length = find_header(req, "Content-Length");
    if (!length) return {};
    if (length->empty() || !std::all_of(length->begin(), length->end(), [](char c) { return c >= '0' && c <= '9'; }))
        return {400, 0};
    if (length->size() > 9 || std::stoul(*length) > max_discarded_body) return {413, 0};
    return {0, std::stoul(*length)};
}

// Reads one request head, and discards its body if it has one (GET and
// HEAD carry none in practice; a small one is read so that the connection
// stays in step). Not timed; serve_requests puts a deadline around it.
trellis::task<read_result> read_request(request_reader& reader) {
    std::optional<std::size_t> end;
    while (!(end = reader.head_end())) {
        if (reader.size() > max_head_bytes) co_return read_result{read_result::too_large, {}, 431};
        const bool had_bytes = !reader.empty();
        const bool more = co_await reader.fill();
        if (!more) co_return read_result{had_bytes ? read_result::truncated : read_result::closed, {}, 0};
    }
    if (*end > max_head_bytes) co_return read_result{read_result::too_large, {}, 431};
    read_result result{read_result::complete, {}, 0};
    const std::string head = reader.take(*end);
    result.status = parse_request_head(head, result.req);
    if (result.status != 0) co_return result;
    const body_length body = announced_body(result.req);
    if (body.status != 0) co_return read_result{read_result::bad_body, {}, body.status};
    const bool whole = co_await discard_body(reader, body.length);
    if (!whole) co_return read_result{read_result::truncated, {}, 0};
    co_return result;
}

// ---- One connection. ----

// Answers one parsed request. Returns whether the connection stays open.
trellis::task<bool> answer(trellis::socket_stream& conn, const server_config& config, const request& req) {
    const bool head_only = req.method == "HEAD";
    const bool keep_alive = wants_keep_alive(req);
    if (req.method != "GET" && !head_only) {
        (void)co_await send_error(conn, 501, false, false, config.idle_timeout);
        co_return false;
    }
    const file_lookup found = find_file(config, req.target);
    if (found.status != 200) {
        // A malformed target ends the connection; a refused or missing file
        // does not.
        const bool stay = keep_alive && found.status != 400;
        co_return co_await send_error(conn, found.status, head_only, stay, config.idle_timeout) && stay;
    }
    co_return co_await send_file(conn, found.path, head_only, keep_alive, config.idle_timeout);
}

// Serves requests on one connection until the client closes it, asks to,
// goes quiet for the idle timeout, or sends something malformed.
trellis::task<> serve_requests(trellis::socket_stream& conn, const server_config& config) {
    request_reader reader(conn);
    for (;;) {
        std::optional<read_result> got = co_await trellis::move_on_after(config.idle_timeout, read_request,
                                                                         std::ref(reader));
        if (!got) {
            // Timed out: a client that started a request hears why.
            if (!reader.empty()) (void)co_await send_error(conn, 408, false, false, config.idle_timeout);
            co_return;
        }
        switch (got->what) {
            case read_result::closed:
            case read_result::truncated:
                co_return;
            case read_result::too_large:
            case read_result::bad_body:
                (void)co_await send_error(conn, got->status, false, false, config.idle_timeout);
                co_return;
            case read_result::complete:
                break;
        }
        if (got->status != 0) {
            (void)co_await send_error(conn, got->status, false, false, config.idle_timeout);
            co_return;
        }
        const bool keep_open = co_await answer(conn, config, got->req);
        if (!keep_open) co_return;
    }
}

// serve_tcp's handler: one task per connection. A failing connection (the
// client reset it mid-response, say) is logged and ends alone; it must not
// reach serve_tcp, which would stop the whole server. trellis::cancelled is
// not a std::exception, so cancellation still passes through.
trellis::task<> handle_connection(trellis::socket_stream& conn, const server_config& config) {
    try {
        co_await serve_requests(conn, config);
    } catch (const std::exception& e) {
        std::string peer = "?";
        try {
            peer = conn.socket().peer_address().to_string();
        } catch (const std::exception&) {
        }
        std::fprintf(stderr, "http_server: connection from %s: %s\n", peer.c_str(), e.what());
    }
}

trellis::task<> serve(const server_config& config, std::string host, std::uint16_t port) {
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        auto handler = [&config](trellis::socket_stream& conn) { return handle_connection(conn, config); };
        trellis::serve_tcp_options options{.host = host};
        auto listeners = co_await n.start(trellis::serve_tcp, handler, port, options);
        const auto address = listeners.at(0)->socket().local_address();
        std::printf("listening on %s\n", address.to_string().c_str());
        std::fflush(stdout);
    });
}

int usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s --root DIR [--host HOST] [--port PORT] [--idle-timeout SECONDS]\n", argv0);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string root;
    std::string host = "127.0.0.1";
    long port = 0;
    double idle_seconds = 10;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (i + 1 >= argc) return usage(argv[0]);
        if (arg == "--root") {
            root = argv[++i];
        } else if (arg == "--host") {
            host = argv[++i];
        } else if (arg == "--port") {
            port = std::strtol(argv[++i], nullptr, 10);
        } else if (arg == "--idle-timeout") {
            idle_seconds = std::strtod(argv[++i], nullptr);
        } else {
            return usage(argv[0]);
        }
    }
    if (root.empty()) return usage(argv[0]);
    if (port < 0 || port > 65535) {
        std::fprintf(stderr, "http_server: port out of range: %ld\n", port);
        return 2;
    }
    if (!(idle_seconds > 0 && idle_seconds < 1e6)) {
        std::fprintf(stderr, "http_server: the idle timeout must be a positive number of seconds\n");
        return 2;
    }
    server_config config;
    char* real_root = ::realpath(root.c_str(), nullptr);
    struct stat st {};
    if (!real_root || ::stat(real_root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        std::fprintf(stderr, "http_server: --root %s is not a directory\n", root.c_str());
        std::free(real_root);
        return 2;
    }
    config.root = real_root;
    std::free(real_root);
    if (config.root == "/") config.root.clear();  // so that root + "/" is "/"
    config.idle_timeout = std::chrono::duration_cast<trellis::duration>(std::chrono::duration<double>(idle_seconds));
    try {
        trellis::run(serve, std::cref(config), host, static_cast<std::uint16_t>(port));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "http_server: %s\n", e.what());
        return 1;
    }
}
