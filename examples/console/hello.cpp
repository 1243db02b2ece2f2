#include <trellis/trellis.hpp>

#include <cstdio>

using namespace std::chrono_literals;

trellis::task<int> answer() {
    co_await trellis::sleep(10ms);
    co_return 42;
}

int main() {
    int v = trellis::run(answer);  // runs answer() to completion on this thread
    std::printf("the answer is %d\n", v);
    return 0;
}
