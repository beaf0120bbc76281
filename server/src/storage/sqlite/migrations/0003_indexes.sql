-- Version 3: indexes the warehouse domain's reads need.
-- Replacing an item's GTINs deletes by SKU; allocation reads stock by SKU.
CREATE INDEX item_gtins_sku ON item_gtins (tenant_id, sku);
CREATE INDEX stock_sku ON stock (tenant_id, warehouse_id, sku);
