// expect: not an already-created task
#include <trellis/trellis.hpp>
using namespace std::chrono_literals;
trellis::task<int> child(int x) { co_return x; }
int compute(int x) { return x; }
int main() { return trellis::run(trellis::run_options{}, child(1)); }
