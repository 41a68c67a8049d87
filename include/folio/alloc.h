/* folio/alloc.h - the single allocation seam of libfolio.
 *
 * Every allocation libfolio makes goes through these functions. Tests replace the
 * allocator to inject failures (fail the Nth allocation) and to count leaks. */
#ifndef FOLIO_ALLOC_H
#define FOLIO_ALLOC_H

#include <stddef.h>

#include "folio/common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct folio_allocator {
    void *(*malloc_fn)(size_t size);
    void *(*realloc_fn)(void *ptr, size_t size);
    void (*free_fn)(void *ptr);
};

/* Replace the allocator (NULL restores the C library's). Not thread-safe: call it before
 * any other libfolio function. */
FOLIO_EXTERN void folio_allocator_set(const struct folio_allocator *a);

FOLIO_EXTERN void *folio_malloc(size_t size);
FOLIO_EXTERN
void *folio_calloc(size_t n, size_t size); /* zeroed; NULL on overflow */
FOLIO_EXTERN void *folio_realloc(void *ptr, size_t size);
FOLIO_EXTERN void folio_free(void *ptr);
FOLIO_EXTERN char *folio_strdup(const char *s);
FOLIO_EXTERN char *folio_strndup(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif
