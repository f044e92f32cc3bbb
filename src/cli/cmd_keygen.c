/*
 * cmd_keygen.c — `doppel keygen -o KEY`: write a new random key file.
 */
#include <stdlib.h>

#include "cli.h"

int cmd_keygen(int argc, char **argv) {
  const char *output = NULL;
  const cli_option opts[] = {
      {"output", 'o', CLI_STRING, "KEY", "key file to create (must not exist)", &output},
  };
  const cli_command *cmd = cli_command_get("keygen");
  char **pos;
  size_t n_pos;
  int rc = cli_parse(cmd, opts, sizeof opts / sizeof opts[0], argc, argv, &pos, &n_pos);
  if (rc) {
    free(pos);
    return rc < 0 ? 0 : rc;
  }
  if (n_pos == 1 && !output) output = pos[0];
  else if (n_pos) {
    cli_error("unexpected argument '%s'", pos[0]);
    free(pos);
    return 2;
  }
  free(pos);
  if (!output) {
    cli_error("missing -o KEY (the key file to create)");
    return 2;
  }
  if (output[0] == '-' && output[1] == '\0') {
    cli_error("a key is never written to stdout; give a file name");
    return 2;
  }
  doppel_diag d;
  doppel_diag_clear(&d);
  doppel_key *key = NULL;
  if (doppel_key_create(&key, output, &d) != DOPPEL_OK) return cli_diag_error(&d);
  char id[DOPPEL_KEY_ID_HEX + 1];
  doppel_key_id(key, id);
  doppel_key_free(key);
  cli_info("wrote %s (mode 0600), key id %s; keep it secret and backed up: without it pseudonyms cannot be reproduced",
           output, id);
  return 0;
}
