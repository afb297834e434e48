/* static.h — the web UI's files, built into the binary, served with ETags. */
#ifndef CW_STATIC_H
#define CW_STATIC_H
struct req;
/* Computes the ETags once before serving (not thread-safe; call at start). */
void static_init(void);
/* Serves r->path from the built-in web/ files ("/" is web/index.html). */
int static_serve(struct req *r);
#endif
