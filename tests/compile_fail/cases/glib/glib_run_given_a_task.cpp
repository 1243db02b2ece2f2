// expect: not an already-created task
#include <trellis/glib.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int main() { return trellis::glib::run(child(1)); }
