#include "cli/run.hpp"
#include "list.hpp"

int main(int argc, char** argv) {
    return virtsnap::cli::run(argc, argv, "virtsnap-list", virtsnap::list::run_list);
}
