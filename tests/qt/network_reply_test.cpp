// qt::wait_finished on a QNetworkReply, against an HTTP server on loopback
// served by trellis in the same run.
#include <trellis/net.hpp>
#include <trellis/qt.hpp>
#include <trellis/qt/gtest.hpp>
#include <trellis/qt/network_reply.hpp>
#include <trellis/trellis.hpp>

#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QUrl>

#include <cstdint>
#include <memory>
#include <string>

using namespace std::chrono_literals;
using trellis::task;

namespace {

// What the test server does with one connection.
enum class serve_mode { ok, not_found, never_answer };

// Reads one request head from `conn` (up to the blank line); false at EOF.
task<bool> read_request(trellis::socket_stream& conn) {
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
        std::string chunk = co_await conn.receive_some();
        if (chunk.empty()) co_return false;
        request += chunk;
    }
    co_return true;
}

// A one-response HTTP/1.0 server; counts connections and notes when the
// client went away while it was not answering.
struct test_server {
    serve_mode mode = serve_mode::ok;
    int connections = 0;
    trellis::event client_left;
    std::uint16_t port = 0;

    task<> handle(trellis::socket_stream& conn) {
        ++connections;
        if (!co_await read_request(conn)) co_return;
        if (mode == serve_mode::never_answer) {
            std::string rest = co_await conn.receive_some();  // "" once the client closes
            if (rest.empty()) client_left.set();
            co_return;
        }
        const std::string body = mode == serve_mode::ok ? "hello from trellis" : "no such page";
        const std::string status = mode == serve_mode::ok ? "200 OK" : "404 Not Found";
        co_await conn.send_all("HTTP/1.0 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    }
};

QUrl url_of(const test_server& s) { return QUrl("http://127.0.0.1:" + QString::number(s.port) + "/index.txt"); }

// Starts the server, runs check(server, manager), then stops the server.
template <class Check>
task<> with_server(serve_mode mode, Check check) {
    test_server server;
    server.mode = mode;
    QNetworkAccessManager manager;
    manager.setProxy(QNetworkProxy::NoProxy);
    // Named, not written inside the co_await below (g++ 12, see the README).
    std::function<task<>(trellis::socket_stream&)> handler = [&server](trellis::socket_stream& conn) -> task<> {
        co_await server.handle(conn);
    };
    trellis::serve_tcp_options options{.host = "127.0.0.1"};
    auto body = [&](trellis::nursery& n) -> task<> {
        auto listeners = co_await n.start(trellis::serve_tcp, handler, std::uint16_t{0}, options);
        server.port = listeners.at(0)->socket().local_address().port();
        co_await check(server, manager);
        n.cancel_scope().cancel();
    };
    co_await trellis::open_nursery(body);
}

}  // namespace

TRELLIS_QT_TEST(QtNetworkReply, ReturnsWhenTheReplyFinishesWithTheBodyReadable) {
    auto check = [](test_server& server, QNetworkAccessManager& manager) -> task<> {
        std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(url_of(server))));
        co_await trellis::qt::wait_finished(reply.get());
        EXPECT_TRUE(reply->isFinished());
        EXPECT_EQ(reply->readAll().toStdString(), "hello from trellis");
        EXPECT_EQ(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    };
    co_await with_server(serve_mode::ok, check);
}

TRELLIS_QT_TEST(QtNetworkReply, AnHttpErrorThrowsNetworkErrorWithQtsCodeAndMessage) {
    auto check = [](test_server& server, QNetworkAccessManager& manager) -> task<> {
        std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(url_of(server))));
        QNetworkReply::NetworkError code = QNetworkReply::NoError;
        std::string message;
        try {
            co_await trellis::qt::wait_finished(reply.get());
        } catch (const trellis::qt::network_error& e) {
            code = e.code();
            message = e.what();
        }
        EXPECT_EQ(code, QNetworkReply::ContentNotFoundError);
        EXPECT_EQ(message, reply->errorString().toStdString());
        EXPECT_FALSE(message.empty());
    };
    co_await with_server(serve_mode::not_found, check);
}

TRELLIS_QT_TEST(QtNetworkReply, ARefusedConnectionThrowsConnectionRefused) {
    // A port that was free a moment ago: bind, note it, close.
    std::uint16_t port = 0;
    {
        const std::string loopback = "127.0.0.1";
        auto listeners = co_await trellis::open_tcp_listeners(0, loopback);
        port = listeners.at(0).socket().local_address().port();
    }
    QNetworkAccessManager manager;
    manager.setProxy(QNetworkProxy::NoProxy);
    std::unique_ptr<QNetworkReply> reply(
        manager.get(QNetworkRequest(QUrl("http://127.0.0.1:" + QString::number(port) + "/"))));
    QNetworkReply::NetworkError code = QNetworkReply::NoError;
    try {
        co_await trellis::qt::wait_finished(reply.get());
    } catch (const trellis::qt::network_error& e) {
        code = e.code();
    }
    EXPECT_EQ(code, QNetworkReply::ConnectionRefusedError);
}

TRELLIS_QT_TEST(QtNetworkReply, CancellationAbortsTheRequestAndTheServerSeesTheConnectionClose) {
    auto check = [](test_server& server, QNetworkAccessManager& manager) -> task<> {
        std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(url_of(server))));
        auto fetch = [&]() -> task<> { co_await trellis::qt::wait_finished(reply.get()); };
        trellis::cancel_scope scope;
        auto cancel_when_connected = [&]() -> task<> {
            while (server.connections == 0) co_await trellis::sleep(1ms);
            co_await trellis::sleep(5ms);  // the request head reaches the server
            scope.cancel();
        };
        auto body = [&](trellis::nursery& n) -> task<> {
            n.start_soon(cancel_when_connected);
            co_await scope.run(fetch);
        };
        co_await trellis::open_nursery(body);
        EXPECT_TRUE(scope.cancelled_caught());
        EXPECT_TRUE(reply->isFinished());
        EXPECT_EQ(reply->error(), QNetworkReply::OperationCanceledError);
        auto wait_left = [&]() -> task<> { co_await server.client_left.wait(); };
        EXPECT_TRUE(co_await trellis::move_on_after(5s, wait_left));
    };
    co_await with_server(serve_mode::never_answer, check);
}

TRELLIS_QT_TEST(QtNetworkReply, AnAlreadyFinishedReplyReturnsAtOnce) {
    auto check = [](test_server& server, QNetworkAccessManager& manager) -> task<> {
        std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(url_of(server))));
        co_await trellis::qt::wait_finished(reply.get());
        co_await trellis::qt::wait_finished(reply.get());  // again: finished already
        EXPECT_EQ(reply->readAll().toStdString(), "hello from trellis");
    };
    co_await with_server(serve_mode::ok, check);
}

TRELLIS_QT_TEST(QtNetworkReply, NullReplyIsMisuse) {
    bool misuse = false;
    try {
        co_await trellis::qt::wait_finished(nullptr);
    } catch (const trellis::run_error&) {
        misuse = true;
    }
    EXPECT_TRUE(misuse);
}
