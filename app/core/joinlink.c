/* joinlink.c — see joinlink.h. */
#include "joinlink.h"

#include <string.h>

int joinlink_valid(const char *link) {
  if(!link || strncmp(link, "https://", 8) != 0 || !link[8]) return 0;
  for(const unsigned char *c = (const unsigned char *)link; *c; c++) {
    /* <= ' ' is every control character and the space. */
    if(*c <= ' ' || *c == 0x7f || *c == '"' || *c == '\'' || *c == '<' || *c == '>' || *c == '\\')
      return 0;
  }
  return 1;
}
