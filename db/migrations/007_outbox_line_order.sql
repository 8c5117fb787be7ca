-- 007_outbox_line_order.sql - one line's MVNO deliveries in order.
--
-- phonebill-worker claims a due delivery only when no older delivery of
-- the same line is still waiting and not due (in flight elsewhere, or
-- backing off after the MVNO AP refused it): a line's results reach the
-- MVNO AP in the order they happened, whatever each one's retry time.
-- This index answers "an older, waiting delivery of this line?" without
-- reading the line's whole history.

ALTER TABLE phonebill_bill.bill_request_history
	ADD KEY IF NOT EXISTS ix_bill_request_history_line_mvno (line_number_bidx, mvno_next_at);

ALTER TABLE phonebill_product.product_change_history
	ADD KEY IF NOT EXISTS ix_product_change_history_line_mvno (line_number_bidx, mvno_next_at);
