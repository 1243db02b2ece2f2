// Test helper: a QApplication for the widget tests, created before any
// test runs (TRELLIS_QT_TEST would otherwise create a plain
// QCoreApplication). The tests run with QT_QPA_PLATFORM=offscreen.
#pragma once

#include <gtest/gtest.h>

#include <QApplication>

#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>

namespace qt_helper_test {

class widgets_environment : public ::testing::Environment {
public:
    void SetUp() override {
        // Without XDG_RUNTIME_DIR, QtGui warns (and QT_FATAL_WARNINGS
        // aborts): give it a private one for the test's life.
        if (!std::getenv("XDG_RUNTIME_DIR")) {
            char dir[] = "/tmp/trellis-qt-test-XXXXXX";
            if (::mkdtemp(dir)) {
                runtime_dir_ = dir;
                ::setenv("XDG_RUNTIME_DIR", dir, 1);
            }
        }
        app_ = std::make_unique<QApplication>(argc_, argv_);
    }
    void TearDown() override {
        app_.reset();
        if (!runtime_dir_.empty()) ::rmdir(runtime_dir_.c_str());
    }

private:
    std::string runtime_dir_;
    int argc_ = 1;
    char name_[16] = "qt_widgets_test";
    char* argv_[2] = {name_, nullptr};
    std::unique_ptr<QApplication> app_;
};

inline ::testing::Environment* const widgets_app = ::testing::AddGlobalTestEnvironment(new widgets_environment);

}  // namespace qt_helper_test
