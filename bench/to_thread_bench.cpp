// to_thread::run_sync round trip of an empty function, against its floor: a
// hand-written one-thread pool doing the same hop with no trellis.
//
// Floor, per round trip: the submitting thread hands the job to a worker
// waiting on a condition variable, then blocks in poll() on an eventfd; the
// worker runs the job and writes the eventfd; the submitter wakes and
// reads it. trellis does the same two thread wake-ups (the worker through
// the thread cache, the run through its token's eventfd and epoll_wait),
// plus a limiter token, a scheduling step and the task's resumption.
// Round trips are dominated by the wake-ups, hence wall-clock time.

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <trellis/trellis.hpp>

#include "bench_support.hpp"

namespace {

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::abort();
}

// One worker thread that runs submitted jobs and signals each completion
// on an eventfd.
class hand_made_pool {
public:
    hand_made_pool() : done_fd_(::eventfd(0, EFD_CLOEXEC)) {
        if (done_fd_ < 0) die("eventfd");
        worker_ = std::thread([this] { work(); });
    }
    ~hand_made_pool() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        worker_.join();
        ::close(done_fd_);
    }
    hand_made_pool(const hand_made_pool&) = delete;
    hand_made_pool& operator=(const hand_made_pool&) = delete;

    // Runs job on the worker and blocks in poll() until it is done.
    void run(void (*job)()) {
        {
            std::lock_guard lock(mutex_);
            job_ = job;
        }
        wake_.notify_one();
        pollfd p{done_fd_, POLLIN, 0};
        while (::poll(&p, 1, -1) != 1) {
            if (errno != EINTR) die("poll");
        }
        std::uint64_t count;
        if (::read(done_fd_, &count, sizeof count) != sizeof count) die("read");
    }

private:
    void work() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return job_ || stopping_; });
            if (stopping_) return;
            auto job = std::exchange(job_, nullptr);
            lock.unlock();
            job();
            const std::uint64_t one = 1;
            if (::write(done_fd_, &one, sizeof one) != sizeof one) die("write");
            lock.lock();
        }
    }

    int done_fd_;
    std::mutex mutex_;
    std::condition_variable wake_;
    void (*job_)() = nullptr;  // guarded by mutex_
    bool stopping_ = false;    // guarded by mutex_
    std::thread worker_;
};

void empty_function() {}

void floor_hand_made_pool_round_trip(benchmark::State& state) {
    hand_made_pool pool;
    for (auto _ : state) pool.run(&empty_function);
}
BENCHMARK(floor_hand_made_pool_round_trip);

void trellis_to_thread_round_trip(benchmark::State& state) {
    trellis::run([&state]() -> trellis::task<> {
        for (auto _ : state) co_await trellis::to_thread::run_sync(&empty_function);
    });
}
BENCHMARK(trellis_to_thread_round_trip);

}  // namespace

int main(int argc, char** argv) {
    return bench::run_main(argc, argv,
                           {bench::target::ratio("to_thread round trip", "floor_hand_made_pool_round_trip",
                                                 "trellis_to_thread_round_trip", 1.5)});
}
