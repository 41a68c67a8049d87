/* Every problem type folio answers with: the stable `/problems/{slug}` identifiers of its
 * RFC 9457 errors, each with the HTTP status it comes with, a title, what it means and
 * what a client can do. Served as pages (handler/problems.c) and listed in /openapi.json.
 * Slugs never change meaning; new ones may be added. Read-only, thread-safe. */
#ifndef FOLIO_SERVER_PROBLEM_TYPES_H
#define FOLIO_SERVER_PROBLEM_TYPES_H

#include <stddef.h>

struct folio_problem_type {
    const char *slug;
    int status;       /* the usual status; `also` lists any other */
    const char *also; /* e.g. "403" for not-found from the files handler, or NULL */
    const char *title;
    const char *meaning; /* what went wrong */
    const char *todo;    /* what the client can do about it */
};

extern const struct folio_problem_type folio__problem_types[];
extern const size_t folio__nproblem_types;

/* The type with this slug, or NULL. */
const struct folio_problem_type *folio__problem_type_find(const char *slug);

#endif
