// expect: not an already-created task
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
trellis::task<> body() {
    trellis::cancel_scope scope;
    co_await scope.run(child(1));
}
