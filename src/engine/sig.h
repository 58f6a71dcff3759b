/* sig.h - fatal-signal handling: on SIGINT, SIGTERM or SIGHUP stop the workers,
 * remove this process's temporary files, then die of the same signal. */
#ifndef PARIMG_SIG_H
#define PARIMG_SIG_H

/* Install the handlers; SIGXFSZ is ignored so that a file-size limit shows
 * up as EFBIG on the write that hit it, which is then reported. */
void sig_init(void);

#endif
