// Test helper: runs the real Qt event loop of the current QCoreApplication
// until a condition holds, for the Qt guest tests.
#pragma once

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QEventLoop>
#include <QTimer>

#include <chrono>
#include <functional>

namespace guest_test {

// Processes Qt events until pred() holds or `timeout` passes; returns pred().
inline bool run_qt_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    QDeadlineTimer deadline(timeout);
    QTimer wake;  // makes the blocking processEvents return at the deadline
    wake.setSingleShot(true);
    wake.start(timeout);
    while (!pred() && !deadline.hasExpired()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    return pred();
}

}  // namespace guest_test
