/* The delegaudit command line: a table of commands over the library. */
#ifndef DELEGAUDIT_CLI_H
#define DELEGAUDIT_CLI_H

/* Runs one command and returns the exit status (enum da_status). */
int da_cli_main(int argc, char **argv);

#endif
