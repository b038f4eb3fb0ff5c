#include "app/phases_command.hpp"

#include <iostream>

namespace pipeline::app {

CLI::App* add_phases_command(CLI::App& app) {
    CLI::App* phases = app.add_subcommand("complete-phases", "The configured phase names, one per line");
    phases->group(""); // hidden: the completion script asks it, people read `pipeline status`
    return phases;
}

int phases_command(const GlobalOptions& global) {
    const core::Config config = load_config(global);
    for (const core::PhaseDef& def : config.phases) {
        std::cout << def.name << '\n';
    }
    return 0;
}

} // namespace pipeline::app
