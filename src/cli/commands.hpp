#pragma once
// Each subcommand registers itself on the CLI and returns the function that runs it once parsed.
#include <CLI/CLI.hpp>

#include <functional>

namespace dinex::cli {

using command_runner = std::function<int()>;

// Registered commands: the runner of the one that was parsed is called by main.
struct command {
    CLI::App* app;
    command_runner run;
};

command register_serve(CLI::App& cli);
command register_create_table(CLI::App& cli);
command register_lambda(CLI::App& cli);
command register_keys(CLI::App& cli);
command register_import(CLI::App& cli);
command register_export(CLI::App& cli);

}  // namespace dinex::cli
