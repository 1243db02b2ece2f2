// A downstream program: a nursery with two children, one of them cut short
// by a timeout. Exits 0 when everything happened as expected.
#include <trellis/trellis.hpp>

#include <chrono>
#include <cstdio>

using namespace std::chrono_literals;

namespace {

trellis::task<int> consumer_main() {
    int finished = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            co_await trellis::sleep(1ms);
            ++finished;
        });
        n.start_soon([&]() -> trellis::task<> {
            bool done = co_await trellis::move_on_after(5ms, []() -> trellis::task<> {
                co_await trellis::sleep_forever();
            });
            if (!done) ++finished;
        });
        co_return;
    });
    co_return finished;
}

}  // namespace

int main() {
    int finished = trellis::run(consumer_main);
    std::printf("consumer: %d of 2 children finished as expected\n", finished);
    return finished == 2 ? 0 : 1;
}
