// A C++17 program using the installed libfolio: the headers' extern "C" guards let it link.
#include <folio/folio.h>

#include <cstdio>
#include <cstring>

int main()
{
    folio_buf b;
    folio_buf_init(&b, 64);
    folio_buf_puts(&b, "libfolio ");
    folio_buf_puts(&b, folio_version());
    bool ok = folio_buf_status(&b) == FOLIO_OK && std::strcmp(folio_version(), FOLIO_VERSION) == 0;
    std::printf("consumer_cxx: %s\n", ok ? b.data : "failed");
    folio_buf_clear(&b);
    return ok ? 0 : 1;
}
