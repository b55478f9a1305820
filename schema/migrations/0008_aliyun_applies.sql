-- 0008_aliyun_applies.sql: the batches of the Alibaba Cloud IoT API's
-- BatchRegisterDevice (server/src/aliyun_actions_devices.c), each with its
-- ApplyId, so QueryBatchRegisterDeviceStatus and QueryPageByApplyId can
-- list the devices one batch made. A deleted device or product leaves its
-- batches (ON DELETE CASCADE).

CREATE TABLE aliyun_applies (
    apply_id    INTEGER PRIMARY KEY,
    product_key TEXT NOT NULL REFERENCES products(product_key) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE aliyun_apply_devices (
    apply_id    INTEGER NOT NULL REFERENCES aliyun_applies(apply_id) ON DELETE CASCADE,
    product_key TEXT NOT NULL,
    device_name TEXT NOT NULL,
    PRIMARY KEY (apply_id, device_name),
    FOREIGN KEY (product_key, device_name) REFERENCES devices(product_key, device_name) ON DELETE CASCADE
);
