#pragma once
// The one error type that ends a command, and the exit codes of docs/contract.md §3.

#include <stdexcept>
#include <string>

namespace pipeline::core {

/// Process exit codes (docs/contract.md §3).
enum class ExitCode : int {
    Ok = 0,
    Failed = 1,      ///< run: a phase FAILED; stop: sentinel not written; status: ledger unreadable
    Usage = 2,       ///< usage error, bad config, invalid phase name
    Stopped = 3,     ///< run: a phase was STOPPED and none failed
    SlotBusy = 4,    ///< run: the phase's slot is held by a live run
    WaitTimeout = 5, ///< stop --wait ran out of time
};

/// A failure that ends the command; main() prints what() to stderr and exits with code().
class Error : public std::runtime_error {
  public:
    Error(ExitCode code, const std::string& message) : std::runtime_error(message), m_code(code) {}
    ExitCode code() const { return m_code; }

  private:
    ExitCode m_code;
};

/// Shorthand for a usage or configuration error (exit 2).
inline Error usage_error(const std::string& message) { return Error(ExitCode::Usage, message); }

} // namespace pipeline::core
