/* The allocation seam: see folio/alloc.h. */
#include "folio/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct folio_allocator current = {malloc, realloc, free};

void folio_allocator_set(const struct folio_allocator *a)
{
    if (a == NULL) {
        current = (struct folio_allocator){malloc, realloc, free};
        return;
    }
    current = *a;
}

void *folio_malloc(size_t size)
{
    return current.malloc_fn(size ? size : 1);
}

void *folio_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = folio_malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *folio_realloc(void *ptr, size_t size)
{
    return current.realloc_fn(ptr, size ? size : 1);
}

void folio_free(void *ptr)
{
    if (ptr != NULL)
        current.free_fn(ptr);
}

char *folio_strndup(const char *s, size_t n)
{
    char *p = folio_malloc(n + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *folio_strdup(const char *s)
{
    return folio_strndup(s, strlen(s));
}
