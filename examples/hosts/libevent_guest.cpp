// trellis as a guest of a libevent event_base: a server's base keeps
// dispatching its own events while trellis tasks run on it. Prints what
// happens and exits 0.
#include <trellis/libevent.hpp>
#include <trellis/trellis.hpp>

#include <event2/event.h>
#include <event2/thread.h>

#include <cstdio>

using namespace std::chrono_literals;

trellis::task<int> main_task() {
    int ticks = 0;
    co_await trellis::open_nursery([&](trellis::nursery& n) -> trellis::task<> {
        n.start_soon([&]() -> trellis::task<> {
            for (;;) {
                co_await trellis::sleep(10ms);
                ++ticks;
            }
        });
        co_await trellis::sleep(55ms);
        n.cancel_scope().cancel();  // stops the ticker: nothing is left running
    });
    std::printf("ticked %d times, then was cancelled\n", ticks);
    co_return 0;
}

int main() {
    evthread_use_pthreads();  // before event_base_new(): trellis posts from its worker thread
    event_base* base = event_base_new();
    // Loops the base until main_task is done; the base's other events run as usual.
    int status = trellis::libevent::run(base, main_task);
    event_base_free(base);
    return status;
}
