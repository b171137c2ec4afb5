#include "cli/run.hpp"
#include "copy.hpp"

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-copy", virtsnap::copy_tool::run_copy);
}
