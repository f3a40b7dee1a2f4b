-- risk: Low
CREATE TABLE shipments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  order_id BIGINT UNSIGNED NOT NULL,
  carrier ENUM('dhl','ups') NOT NULL,
  tracking_note VARCHAR(200),
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
ALTER TABLE shipments ADD FULLTEXT INDEX ft_note (tracking_note), ALGORITHM=COPY;
ALTER TABLE shipments MODIFY carrier ENUM('ups','dhl','fedex') NOT NULL;
ALTER TABLE shipments ADD CONSTRAINT fk_ship_order FOREIGN KEY (order_id) REFERENCES orders (id);
