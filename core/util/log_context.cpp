#include "core/util/log_context.hpp"

#include <utility>

namespace pipeline::core {

LogContext& log_context() {
    static thread_local LogContext context;
    return context;
}

ScopedLogContext::ScopedLogContext(std::string phase, std::string run_id) : m_previous(log_context()) {
    log_context() = LogContext{std::move(phase), std::move(run_id)};
}

ScopedLogContext::~ScopedLogContext() { log_context() = std::move(m_previous); }

} // namespace pipeline::core
