#pragma once
// Time a thread spends on one kind of work, wall and CPU apart: the wall time includes waiting (for the disk,
// for a busy core), the CPU time is what the work itself takes. The phase driver times its per-chunk
// bookkeeping with it (docs/ARCHITECTURE.md, "The commit").

#include <chrono>
#include <ctime>

namespace pipeline::core {

/// CPU time the calling thread has used so far.
inline std::chrono::nanoseconds thread_cpu_time() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

struct TimeSpent {
    std::chrono::steady_clock::duration wall{};
    std::chrono::nanoseconds cpu{};
};

/// Adds the wall and CPU time from its construction to its destruction, on the constructing thread, to a
/// TimeSpent.
class ScopedTimer {
  public:
    explicit ScopedTimer(TimeSpent& spent) : m_spent(spent) {}
    ScopedTimer(const ScopedTimer&) = delete;
    ScopedTimer& operator=(const ScopedTimer&) = delete;
    ~ScopedTimer() {
        m_spent.wall += std::chrono::steady_clock::now() - m_wall;
        m_spent.cpu += thread_cpu_time() - m_cpu;
    }

  private:
    TimeSpent& m_spent;
    std::chrono::steady_clock::time_point m_wall = std::chrono::steady_clock::now();
    std::chrono::nanoseconds m_cpu = thread_cpu_time();
};

} // namespace pipeline::core
