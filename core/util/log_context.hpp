#pragma once
// The phase and run a thread is working for, so that structured (JSON) logs can carry them as fields.

#include <string>

namespace pipeline::core {

/// Per-thread log fields; empty when the thread works for no phase.
struct LogContext {
    std::string phase;
    std::string run_id;
};

/// The calling thread's context (mutable).
LogContext& log_context();

/// Sets the calling thread's context for the lifetime of the guard, restoring the previous one after.
class ScopedLogContext {
  public:
    ScopedLogContext(std::string phase, std::string run_id);
    ~ScopedLogContext();
    ScopedLogContext(const ScopedLogContext&) = delete;
    ScopedLogContext& operator=(const ScopedLogContext&) = delete;

  private:
    LogContext m_previous;
};

} // namespace pipeline::core
