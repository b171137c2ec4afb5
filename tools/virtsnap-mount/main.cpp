#include "cli/run.hpp"
#include "mount.hpp"

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-mount", virtsnap::mount::run_mount);
}
