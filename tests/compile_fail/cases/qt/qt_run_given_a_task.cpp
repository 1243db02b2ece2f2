// expect: not an already-created task
#include <trellis/qt.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int main() { return trellis::qt::run(child(1)); }
