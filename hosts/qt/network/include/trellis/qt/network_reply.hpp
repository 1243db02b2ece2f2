// Await a QNetworkReply. Header-only; needs QtNetwork (link Qt6::Network,
// or use the trellis-qt-network dependency, built when QtNetwork is found).
//
//   QNetworkAccessManager manager;
//   std::unique_ptr<QNetworkReply> reply(manager.get(QNetworkRequest(url)));
//   co_await trellis::qt::wait_finished(reply.get());   // throws network_error
//   QByteArray body = reply->readAll();
#pragma once

#include <QNetworkReply>
#include <QPointer>

#include <stdexcept>
#include <string>

#include "trellis/checkpoint.hpp"
#include "trellis/errors.hpp"
#include "trellis/qt.hpp"
#include "trellis/task.hpp"

namespace trellis::qt {

// A QNetworkReply that finished with an error: Qt's error code and its
// errorString(). An ordinary exception, thrown by wait_finished; copyable.
class network_error : public std::runtime_error {
public:
    network_error(QNetworkReply::NetworkError code, const QString& message)
        : std::runtime_error(message.toStdString()), code_(code) {}
    QNetworkReply::NetworkError code() const noexcept { return code_; }

private:
    QNetworkReply::NetworkError code_;
};

// Waits until `reply` has finished (its finished() signal, or at once if
// it already has), then throws network_error if it finished with an error
// (an HTTP error status counts, as QNetworkReply reports it: a 404 is
// ContentNotFoundError). Read the body with reply->readAll() afterwards. A
// checkpoint, also when the reply has already finished. Cancelled while
// the request runs, it aborts the request (reply->abort(), which closes
// the connection) and throws cancelled. Throws closed_resource_error if the
// reply is destroyed while waiting, run_error for a null reply or outside
// a task. The caller owns the reply; call it in a task of a run on the
// reply's thread (normally the application's).
inline task<> wait_finished(QNetworkReply* reply) {
    if (!reply)
        throw run_error("trellis::qt::wait_finished: the reply is null; pass the QNetworkReply to wait for");
    if (reply->isFinished()) {
        co_await checkpoint();
    } else {
        QPointer<QNetworkReply> guard(reply);
        try {
            co_await qt::wait_signal(reply, &QNetworkReply::finished);
        } catch (...) {
            // Cut short (cancelled, or the reply destroyed). The wait is
            // already disconnected, so the finished() that abort() emits
            // is not seen.
            if (guard && guard->isRunning()) guard->abort();
            throw;
        }
    }
    if (reply->error() != QNetworkReply::NoError) throw network_error(reply->error(), reply->errorString());
}

}  // namespace trellis::qt
