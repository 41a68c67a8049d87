/* folio/common.h - macros every public header uses.
 *
 *   FOLIO_EXTERN      marks a function of the public API: the only symbols libfolio.so
 *                     exports (the library is built with -fvisibility=hidden).
 *   FOLIO_MUST_CHECK  the result must be used (verification, parsing).
 *   FOLIO_PRINTF(f,a) printf-style format checking of argument f against argument a. */
#ifndef FOLIO_COMMON_H
#define FOLIO_COMMON_H

#if defined(__GNUC__) || defined(__clang__)
#define FOLIO_EXTERN __attribute__((visibility("default")))
#define FOLIO_MUST_CHECK __attribute__((warn_unused_result))
#define FOLIO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FOLIO_EXTERN
#define FOLIO_MUST_CHECK
#define FOLIO_PRINTF(fmt, args)
#endif

#endif
