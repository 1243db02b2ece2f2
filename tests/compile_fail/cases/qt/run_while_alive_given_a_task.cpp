// expect: not an already-created task
#include <trellis/qt.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
trellis::task<> body(QObject* window) { co_await trellis::qt::run_while_alive(window, child(1)); }
