/*
 * Test harness only: lets BitlBee start a pidgin-sipe group conversation.
 * BitlBee's `chat with <nick>` runs the buddy-menu action that libpurple
 * protocols label "Initiate Chat" or "Initiate Conference"; pidgin-sipe
 * labels its action "New chat". Preloaded into BitlBee, this gives that one
 * action the label BitlBee looks for, so `chat with` runs pidgin-sipe's own
 * "New chat" code (a conference through the focus factory, or a multiparty
 * IM on an OCS 2005 server), exactly as a Pidgin user's click would.
 *
 * libpurple's purple_menu_action_new(label, callback, data, children) is
 * wrapped; every other label goes through untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>

typedef void *(*menu_action_new)(const char *, void *, void *, void *);

void *purple_menu_action_new(const char *label, void *callback, void *data, void *children) {
  static menu_action_new real;
  if (!real) real = (menu_action_new)dlsym(RTLD_NEXT, "purple_menu_action_new");
  if (label && strcmp(label, "New chat") == 0) label = "Initiate Chat";
  return real(label, callback, data, children);
}
