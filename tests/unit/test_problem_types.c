/* src/server/problem_types.c: the catalog behind the /problems/{slug} pages. Every type a
 * libfolio error becomes is in it, with the status that error is answered with, and the
 * catalog itself is well-formed (unique slugs, error statuses, texts). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <jansson.h>
#include <string.h>

#include "folio/folio.h"
#include "server/http.h"
#include "server/problem_types.h"
#include "server/server.h"

static const folio_status all_statuses[] = {
#define STATUS_ITEM(name, num, text) name,
    FOLIO_STATUS_MAP(STATUS_ITEM)
#undef STATUS_ITEM
};

static void test_catalog_is_well_formed(void **state)
{
    (void)state;
    assert_true(folio__nproblem_types >= 20);
    for (size_t i = 0; i < folio__nproblem_types; i++) {
        const struct folio_problem_type *t = &folio__problem_types[i];
        assert_true(t->status >= 400 && t->status <= 599);
        assert_true(strlen(t->slug) > 0 && strspn(t->slug, "abcdefghijklmnopqrstuvwxyz-") ==
                                               strlen(t->slug));
        assert_true(*t->title && *t->meaning && *t->todo);
        assert_ptr_equal(folio__problem_type_find(t->slug), t); /* unique */
    }
    assert_null(folio__problem_type_find("no-such-type"));
    assert_null(folio__problem_type_find(""));
}

/* Every libfolio status, as an input error and as an internal one, becomes a type the
 * catalog has; the catalog's status is the answer's (or the one it lists as `also`). */
static void test_every_error_type_is_in_the_catalog(void **state)
{
    (void)state;
    struct folio_server srv;
    memset(&srv, 0, sizeof srv);
    srv.cfg.query_timeout_ms = 5000;
    struct folio_worker w;
    memset(&w, 0, sizeof w);
    w.srv = &srv;
    folio_buf_init(&w.body, 1 << 16);
    folio_buf_init(&w.headers, 1 << 16);
    folio_buf_init(&w.scratch, 1 << 16);
    static const enum folio_error_kind kinds[] = {FOLIO_KIND_INPUT, FOLIO_KIND_INTERNAL};
    for (size_t i = 0; i < sizeof all_statuses / sizeof all_statuses[0]; i++) {
        if (all_statuses[i] == FOLIO_OK)
            continue;
        for (size_t k = 0; k < 2; k++) {
            struct folio_http h;
            memset(&h, 0, sizeof h);
            h.w = &w;
            h.srv = &srv;
            struct folio_error err = {.status = all_statuses[i], .kind = kinds[k], .detail = "x"};
            folio__problem_from_error(&h, &err);
            json_error_t jerr;
            json_t *doc = json_loadb(w.body.data, w.body.len, 0, &jerr);
            assert_non_null(doc);
            const char *type = json_string_value(json_object_get(doc, "type"));
            assert_non_null(type);
            assert_int_equal(strncmp(type, "/problems/", 10), 0);
            const struct folio_problem_type *t = folio__problem_type_find(type + 10);
            if (t == NULL)
                fail_msg("%s: type %s is not in the catalog", folio_strerror(all_statuses[i]), type);
            char st[8];
            snprintf(st, sizeof st, "%d", h.status);
            if (h.status < 500 && t->status != h.status && (t->also == NULL || strcmp(t->also, st)))
                fail_msg("%s: %s answered %d, catalog says %d", folio_strerror(all_statuses[i]),
                         type, h.status, t->status);
            json_decref(doc);
            folio_buf_reset(&w.headers);
        }
    }
    folio_buf_clear(&w.body);
    folio_buf_clear(&w.headers);
    folio_buf_clear(&w.scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalog_is_well_formed),
        cmocka_unit_test(test_every_error_type_is_in_the_catalog),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
