#include <locale.h>

#include "auditor/cli.h"

int main(int argc, char **argv)
{
    /* Messages stay in English and byte handling stays locale-neutral. */
    setlocale(LC_ALL, "C");
    return da_cli_main(argc, argv);
}
