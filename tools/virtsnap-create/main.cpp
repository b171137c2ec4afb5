#include "cli/run.hpp"
#include "create.hpp"

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-create", virtsnap::create::run_create);
}
