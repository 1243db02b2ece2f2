// expect: cannot be called with these arguments
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
int main() { return trellis::run(child, "one"); }
