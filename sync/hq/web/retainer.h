/* retainer.h — `serve`'s retention thread (ops/retention.h): checks every
 * few minutes whether a run is due (none yet, or the last ended
 * HQ_RETENTION_EVERY_MS ago, by any HQ process: SQR_HQ_RETENTION_EVERY_MS,
 * 1000.. ms, sets another period for tests) and runs it a page at a time,
 * holding the server's storage lock for one page only, so uploads and
 * their acknowledgements wait at most one page (500 erasures) behind it.
 * Another process holding the job makes a turn a no-op; a failed turn is
 * logged and tried again at the next check. retainer_stop(NULL) does
 * nothing; a run stopped halfway is resumed by the next (any process's).
 */
#ifndef SQR_RETAINER_H
#define SQR_RETAINER_H

#include <pthread.h>

#include "hq.h"
#include "sqr.h"

typedef struct retainer retainer;
sqr_rc retainer_start(hq *h, pthread_mutex_t *lock, retainer **out) SQR_WARN_UNUSED;
void retainer_stop(retainer *r);

#endif
