/* An out-of-tree program using the installed libfolio: built with pkg-config and with
 * CMake find_package by tests/install/run.sh, then run. It walks a 10-row keyset page by
 * page the way a server would (request -> cursor -> predicate -> Link) and exits 0 only if
 * every step behaves. */
#include <folio/folio.h>

#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "consumer: %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
            return 1;                                                                   \
        }                                                                               \
    } while (0)

int main(void)
{
    CHECK(strcmp(folio_version(), FOLIO_VERSION) == 0);
    CHECK(FOLIO_VERSION_HEX == ((FOLIO_VERSION_MAJOR << 16) | (FOLIO_VERSION_MINOR << 8) |
                                FOLIO_VERSION_PATCH));
    CHECK(strcmp(folio_strerror(FOLIO_ECURSOR_INVALID), "invalid cursor") == 0);

    const struct folio_param params[] = {{"per_page", "3"}, {"sort", "-price"}};
    const struct folio_request_limits limits = {20, 100};
    struct folio_request rq;
    struct folio_error err;
    CHECK(folio_request_parse(&rq, params, 2, &limits, NULL, NULL, &err) == FOLIO_OK);
    CHECK(rq.per_page == 3 && rq.mode == FOLIO_MODE_FIRST);

    const char *const columns[] = {"\"id\"", "\"price\""};
    const char *const names[] = {"id", "price"};
    struct folio_sort sort;
    CHECK(folio_sort_parse(&sort, rq.sort, names, 2, &err) == FOLIO_OK);
    CHECK(folio_sort_append(&sort, 0) == FOLIO_OK);

    struct folio_keyring kr;
    folio_keyring_init(&kr, false);
    CHECK(folio_keyring_add(&kr, 1, "a secret of at least sixteen bytes", 34) == FOLIO_OK);
    struct folio_cursor c;
    memset(&c, 0, sizeof c);
    c.nkeys = 2;
    c.keys[0] = (struct folio_value){.type = FOLIO_VALUE_REAL, .d = 9.5};
    c.keys[1] = (struct folio_value){.type = FOLIO_VALUE_INT, .i = 42};
    folio_cursor_fingerprint("items\0-price,id", 15, c.fingerprint);
    char tok[FOLIO_CURSOR_MAX_TOKEN];
    size_t toklen;
    CHECK(folio_cursor_encode(&kr, &c, tok, sizeof tok, &toklen) == FOLIO_OK);

    struct folio_cursor back;
    CHECK(folio_cursor_decode(&kr, tok, toklen, 0, c.fingerprint, &back, &err) == FOLIO_OK);
    CHECK(back.nkeys == 2 && back.keys[1].i == 42);
    char bad[FOLIO_CURSOR_MAX_TOKEN];
    memcpy(bad, tok, toklen + 1);
    bad[toklen / 2] = bad[toklen / 2] == 'A' ? 'B' : 'A'; /* a tampered token is refused */
    struct folio_cursor ignored;
    CHECK(folio_cursor_decode(&kr, bad, toklen, 0, c.fingerprint, &ignored, &err) ==
          FOLIO_ECURSOR_INVALID);

    struct folio_buf sql;
    folio_buf_init(&sql, 4096);
    struct folio_keyset_spec ks = {.sort = &sort, .columns = columns, .values = back.keys,
                                   .first_param = 1, .style = FOLIO_PARAM_QNUM};
    CHECK(folio_keyset_where(&sql, &ks) == FOLIO_OK);
    CHECK(strstr(sql.data, "?1") != NULL && strstr(sql.data, "?2") != NULL);
    printf("where: %s\n", sql.data);
    folio_buf_clear(&sql);

    struct folio_buf hdr;
    folio_buf_init(&hdr, 1024);
    const struct folio_link links[] = {{"next", "/items?after=AQE"}, {"prev", NULL}};
    CHECK(folio_link_header_write(&hdr, links, 2) == FOLIO_OK);
    CHECK(strcmp(hdr.data, "</items?after=AQE>; rel=\"next\"") == 0);
    folio_buf_clear(&hdr);
    folio_keyring_clear(&kr);
    printf("consumer: ok, libfolio %s\n", folio_version());
    return 0;
}
