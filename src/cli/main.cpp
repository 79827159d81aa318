// dinex-tracking: the one binary. All wiring happens in src/cli; every other layer takes its
// dependencies through constructors.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/config.hpp"

int main(int argc, char** argv) {
    CLI::App cli{"DINEX Tracking: package tracking service"};
    cli.set_version_flag("-V,--version", std::string("dinex-tracking ") + DINEX_VERSION);
    cli.require_subcommand(1);

    const std::vector<dinex::cli::command> commands = {
#if DINEX_WITH_LOCAL_SERVER
        dinex::cli::register_serve(cli),
#endif
        dinex::cli::register_create_table(cli),
        dinex::cli::register_lambda(cli),
        dinex::cli::register_keys(cli),
        dinex::cli::register_import(cli),
        dinex::cli::register_export(cli),
    };

    // Lambda runs `bootstrap` with no argument: with the Runtime API present, that means `lambda`.
    char lambda_arg[] = "lambda";
    char* lambda_argv[] = {argv[0], lambda_arg, nullptr};
    if (argc == 1 && dinex::cli::environment_variable("AWS_LAMBDA_RUNTIME_API") != nullptr) {
        argc = 2;
        argv = lambda_argv;
    }
    CLI11_PARSE(cli, argc, argv);

    for (const auto& c : commands) {
        if (c.app->parsed()) return c.run();
    }
    return 2;
}
