#include "faults.hpp"

#include <chrono>
#include <ctime>
#include <thread>

namespace fake_api {

void Faults::delay() const {
    if (m_options.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_options.latency_ms));
}

bool Faults::applies(Endpoint endpoint, std::string_view path) const {
    if (m_options.faults_on[static_cast<std::size_t>(endpoint)]) return true;
    for (const std::string& selected : m_options.faults_on_paths) {
        if (selected == path) return true;
    }
    return false;
}

std::chrono::steady_clock::time_point Faults::first_request_at() {
    std::call_once(m_first_request, [this] { m_first_request_at = std::chrono::steady_clock::now(); });
    return m_first_request_at;
}

namespace {

/// Whether a window of --x-first N and --x-for-ms MS (either 0: no limit of that kind) is open for one more
/// request; counts it.
bool window_open(long first, long for_ms, std::chrono::steady_clock::time_point since,
                 std::atomic<long>& served) {
    const auto elapsed = std::chrono::steady_clock::now() - since;
    if (for_ms > 0 && elapsed >= std::chrono::milliseconds(for_ms)) return false;
    return first <= 0 || served.fetch_add(1) < first;
}

}  // namespace

bool Faults::load_balancer_503() {
    if (m_options.lb_503_first <= 0 && m_options.lb_503_for_ms <= 0) return false;
    return window_open(m_options.lb_503_first, m_options.lb_503_for_ms, first_request_at(), m_lb_served);
}

double Faults::next_unit() {
    // Draw number k is a pure function of (seed, k): a sequential client sees the same faults on every run.
    return unit_interval(mix64(m_draws.fetch_add(1, std::memory_order_relaxed), m_options.seed));
}

int status_of_code(std::string_view code) {
    // The live API's error table (docs/live-api.md).
    if (code == "OPENAPI00001") return 500;
    if (code == "OPENAPI00002") return 403;
    if (code == "OPENAPI00007") return 429;
    if (code == "OPENAPI00011") return 503;
    return 400;
}

std::optional<InjectedError> Faults::code_window() {
    if (m_options.code.empty()) return std::nullopt;
    if (!window_open(m_options.code_first, m_options.code_for_ms, first_request_at(), m_code_served)) {
        return std::nullopt;
    }
    return InjectedError{status_of_code(m_options.code), m_options.code, "Injected by --code", m_options.retry_after};
}

std::optional<InjectedError> Faults::before_serving(bool on) {
    std::optional<InjectedError> error = draw_error(on);
    if (error && !m_options.error_message.empty()) error->message = m_options.error_message;
    return error;
}

std::optional<InjectedError> Faults::draw_error(bool on) {
    first_request_at();
    if (m_options.forbid) return InjectedError{403, "OPENAPI00002", "Forbidden (--forbid)", ""};
    if (m_options.daily_allowance > 0 && m_allowance_used.fetch_add(1) >= m_options.daily_allowance) {
        // Until the next midnight in Asia/Seoul (UTC+9), when the allowance starts again.
        const std::time_t now = std::time(nullptr);
        const std::time_t next_day = ((now + 9 * 3600) / 86400 + 1) * 86400 - 9 * 3600;
        return InjectedError{429, "OPENAPI00007", "The daily call allowance of this key is spent",
                             std::to_string(next_day - now)};
    }
    if (m_options.rate_limit > 0) {
        const std::time_t now = std::time(nullptr);
        std::lock_guard lock(m_rate_mutex);
        if (m_rate_window.arrive(now) > m_options.rate_limit) {
            return InjectedError{429, "OPENAPI00007", "The service has exceeded the request limit", "1"};
        }
    }
    if (!on) return std::nullopt;
    if (auto injected = code_window()) return injected;
    double u = next_unit();
    if ((u -= m_options.fail_500) < 0) return InjectedError{500, "OPENAPI00001", "Internal server error", ""};
    if ((u -= m_options.fail_503) < 0) return InjectedError{503, "OPENAPI00011", "API under maintenance", ""};
    if ((u -= m_options.fail_429) < 0) {
        return InjectedError{429, "OPENAPI00007", "The service has exceeded the request limit", m_options.retry_after};
    }
    if ((u -= m_options.fail_prepare) < 0) return InjectedError{400, "OPENAPI00009", "Data being prepared", ""};
    return std::nullopt;
}

bool Faults::truncate_answer(bool on) {
    if (m_options.truncate <= 0.0 || !on) return false;
    return next_unit() < m_options.truncate;
}

std::size_t Faults::huge_answer(bool on) {
    if (m_options.huge_mb <= 0 || !on) return 0;
    if (m_huge_served.fetch_add(1) >= m_options.huge_first) return 0;
    return static_cast<std::size_t>(m_options.huge_mb) * 1024 * 1024;
}

bool Faults::gzip_bomb(bool on) {
    return m_options.gzip_bomb_first > 0 && on && m_bombs_served.fetch_add(1) < m_options.gzip_bomb_first;
}

}  // namespace fake_api
