/* libFuzzer harness for the Kubernetes decoders: any bytes as a list page, a watch event line and
 * a single object of every type, each decoded object put into (and deleted from) a store. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "idwatch/decode.h"
#include "idwatch/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void apply_item(void *ctx, struct decode_object *obj, const struct idw_err *item_err)
{
    (void)item_err;
    if (obj)
        decode_store_apply(ctx, DECODE_EV_ADDED, obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20))
        return 0;
    const char *buf = (const char *)data;
    struct idw_err err = {{0}};
    struct store *s = store_new();
    cJSON *root = cJSON_ParseWithLength(buf, size);
    for (int i = 0; i < DECODE__COUNT; i++) {
        enum decode_type t = (enum decode_type)i;
        struct decode_list_meta meta;
        if (root && cJSON_GetObjectItemCaseSensitive(root, "items")) {
            decode_list_page_json(root, t, apply_item, s, &meta, &err);
            decode_list_meta_free(&meta);
        }
        struct decode_event ev;
        if (root && cJSON_GetObjectItemCaseSensitive(root, "type")) {
            if (decode_watch_event(buf, size, t, &ev, &err) == 0)
                decode_store_apply(s, ev.type, &ev.obj);
            decode_event_free(&ev);
        }
        struct decode_object o;
        if (root && decode_object(root, t, &o, &err) == 0) {
            decode_object_meta(&o);
            decode_store_apply(s, DECODE_EV_ADDED, &o);
            if (decode_object(root, t, &o, &err) == 0) /* and the same object goes away */
                decode_store_apply(s, DECODE_EV_DELETED, &o);
        }
    }
    if (root) {
        struct model_meta m;
        if (decode_meta(cJSON_GetObjectItemCaseSensitive(root, "metadata"), &m, &err) == 0)
            model_meta_free(&m);
    }
    /* unparsable input still goes through the byte-level entry points */
    struct decode_list_meta meta;
    decode_list_page(buf, size, DECODE_POD, NULL, NULL, &meta, &err);
    decode_list_meta_free(&meta);
    const struct model_workload *const *dirty;
    bool all;
    store_take_dirty(s, &dirty, &all);
    cJSON_Delete(root);
    store_free(s);
    return 0;
}
