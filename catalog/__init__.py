"""The supply side of the exchange: departments, data elements, the resource catalog (信息资源目录)
with its information items, mounted resources, lifecycle and versions, the national cataloguing
rules, and bulk import/export in the national template."""
