#include <locale.h>
#include <signal.h>

#include "auditor/cli.h"

int main(int argc, char **argv)
{
    /* Messages stay in English and byte handling stays locale-neutral. */
    setlocale(LC_ALL, "C");
    /* A DC that dies mid-poll must give a directory error (exit 3), not
     * kill the process with SIGPIPE while libldap writes to its socket. */
    signal(SIGPIPE, SIG_IGN);
    return da_cli_main(argc, argv);
}
