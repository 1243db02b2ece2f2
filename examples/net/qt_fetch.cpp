// Fetching a URL with Qt's network stack from a trellis task: the request
// is a QNetworkReply, awaited with trellis::qt::wait_finished, under a
// trellis timeout (which aborts the request if it fires).
//
//   trellis_qt_fetch http://127.0.0.1:8080/index.html [--timeout SECONDS]
//
// Prints the body on stdout and exits 0; on an error prints Qt's error
// code and message on stderr and exits 1 (2 for a bad command line, 3 when
// the timeout cut the request short). check_qt_fetch.py runs it against
// the HTTP server example.
#include <trellis/qt.hpp>
#include <trellis/qt/network_reply.hpp>
#include <trellis/trellis.hpp>

#include <QCoreApplication>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QUrl>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace std::chrono_literals;

trellis::task<QByteArray> fetch(QNetworkAccessManager* manager, QUrl url) {
    std::unique_ptr<QNetworkReply> reply(manager->get(QNetworkRequest(url)));
    co_await trellis::qt::wait_finished(reply.get());  // throws trellis::qt::network_error
    co_return reply->readAll();
}

trellis::task<int> fetch_main(QUrl url, trellis::duration timeout) {
    QNetworkAccessManager manager;
    manager.setProxy(QNetworkProxy::NoProxy);  // talk to the server itself
    try {
        std::optional<QByteArray> body = co_await trellis::move_on_after(timeout, fetch, &manager, url);
        if (!body) {
            std::fprintf(stderr, "timed out: the request was aborted\n");
            co_return 3;
        }
        std::fwrite(body->constData(), 1, static_cast<std::size_t>(body->size()), stdout);
        co_return 0;
    } catch (const trellis::qt::network_error& e) {
        std::fprintf(stderr, "network error %d: %s\n", static_cast<int>(e.code()), e.what());
        co_return 1;
    }
}

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--timeout")) {
        std::fprintf(stderr, "usage: %s URL [--timeout SECONDS]\n", argv[0]);
        return 2;
    }
    const double seconds = argc == 4 ? std::strtod(argv[3], nullptr) : 30.0;
    const auto timeout = std::chrono::duration_cast<trellis::duration>(std::chrono::duration<double>(seconds));
    return trellis::qt::run(fetch_main, QUrl(QString::fromLocal8Bit(argv[1])), timeout);
}
