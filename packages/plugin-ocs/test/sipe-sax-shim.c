/*
 * Test harness only: lets pidgin-sipe 1.25's XML reader work with the
 * libxml2 it is linked to. pidgin-sipe declares a SAX handler with SAX1
 * element callbacks but XML_SAX2_MAGIC and no SAX2 callbacks; the libxml2
 * of Debian 12 then parses in SAX2 mode and never calls them, so every XML
 * body (contact list, roaming self, presence) reads as empty. Preloaded into
 * BitlBee, this hands such a handler to libxml2 marked as SAX1, so SIPE's
 * own code runs as it does on the systems it was written for.
 *
 * The struct mirrors the leading fields of libxml2's xmlSAXHandler (27
 * callbacks, then `initialized`, `_private`, startElementNs, endElementNs,
 * serror), so no libxml2 headers are needed to build it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>

#define SAX2_MAGIC 0xDEEDBEAFu

struct sax_handler {
  void *callbacks[27]; /* 14: startElement, 15: endElement */
  unsigned int initialized;
  void *private_data;
  void *start_element_ns;
  void *end_element_ns;
  void *serror;
};

typedef int (*parse_memory)(struct sax_handler *, void *, const char *, int);

int xmlSAXUserParseMemory(struct sax_handler *sax, void *user_data, const char *buffer, int size) {
  static parse_memory real;
  if (!real) real = (parse_memory)dlsym(RTLD_NEXT, "xmlSAXUserParseMemory");
  if (sax && sax->initialized == SAX2_MAGIC && !sax->start_element_ns && !sax->end_element_ns &&
      (sax->callbacks[14] || sax->callbacks[15])) {
    struct sax_handler sax1 = *sax;
    sax1.initialized = 1;
    return real(&sax1, user_data, buffer, size);
  }
  return real(sax, user_data, buffer, size);
}
